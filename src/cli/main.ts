import './zod-jitless.js';
import { availableParallelism } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { BUILDER_NAMES } from '../../builders/registry.js';
import { parseSecretOption } from '../../builders/secrets/secret-option.js';
import type { SecretRequest } from '../../builders/secrets/build-secrets.js';
import { TARGET_NAMES } from '../deployers/registry.js';
import { Hop3Error } from '../errors.js';
import { formatError, parseCount, parsePort, printable } from './output.js';

/** Each command's code loads only when it runs, so `hop3 --help` stays fast. */
type Loader = () => Promise<{ run: (...args: never[]) => Promise<number> }>;

function program(setExit: (code: number) => void): Command {
  const cli = new Command('hop3')
    .description('Build an app once into an immutable artifact, then run that artifact: local, Nix or Docker builds; process or container deployers.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // commander quotes the arguments it refuses: escaped like hop3's own messages
    .configureOutput({ outputError: (message, write) => write(printable(message)) })
    .exitOverride();

  const action =
    (load: Loader) =>
    async (...args: unknown[]) => {
      const { run } = await load();
      setExit(await (run as (...a: unknown[]) => Promise<number>)(...args.slice(0, -1)));
    };

  const buildOptions = (cmd: Command) =>
    cmd
      .option('--name <app>', 'app name (default: the directory name)')
      .addOption(new Option('--builder <builder>', 'builder to use (default: [build] builder in hop3.toml, else local)').choices(BUILDER_NAMES))
      .option('--output <file>', 'also write the artifact to this file')
      .option('--base-image <ref>', 'base image for generated Dockerfiles (docker builder)')
      .option(
        '--secret <spec>',
        'build secret id=NAME[,src=FILE|env=VAR] (default: the env var NAME), repeatable; build steps get $NAME and $HOP3_SECRETS_DIR/NAME, nothing keeps it (local builder)',
        (spec: string, previous: SecretRequest[]) => [...previous, parseSecretOption(spec)],
        [] as SecretRequest[],
      )
      .option('--ca-bundle <file>', 'PEM file of extra CAs for the build\'s registry and proxy connections (default: [build] ca-bundle, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE...); never in the image or artifact')
      .option('--proxy <url>', 'HTTP(S) proxy for the build (default: [build] proxy, HTTPS_PROXY/HTTP_PROXY); docker builds get it as build args')
      .option('--force', 'build again even when a finished build of the same inputs exists')
      .option('--quiet', 'hide tool output (pip, npm, docker, nix); keep step lines');
  const runOptions = (cmd: Command) =>
    cmd
      .option('--port <port>', 'host port for the web worker on 127.0.0.1 (default: the app\'s previous port, else a free one)', parsePort)
      .option('--foreground', 'stay attached: stream logs, stop the workers on Ctrl-C')
      .option('--replicas <n>', 'tasks per worker on the swarm target (default: [run] replicas, else 1)', parseCount('--replicas', { min: 1, example: 2 }))
      .addOption(new Option('--target <target>', 'where to run it (default: [deploy] target, else what the artifact\'s location needs)').choices(TARGET_NAMES));

  buildOptions(
    cli
      .command('build')
      .argument('<dir...>', 'app source directory; several, or a directory of apps, build in parallel')
      .description('build an app (or several) into a BUILD_ARTIFACT.json'),
  )
    .option('--jobs <n>', 'how many apps build at once (default: one per CPU, here ' + String(availableParallelism()) + ')', parseCount('--jobs', { min: 1, example: 4 }))
    .option('--check', 'then build again from scratch (no cache, no reused dependencies, in a temporary HOP3_HOME) and compare: exit 0 when identical, BUILD_NOT_REPRODUCIBLE naming the differing files otherwise')
    .option('--json', 'print the artifact as JSON on stdout (several apps: an array of results; with --check: the check summary)')
    .action(action(() => import('./commands/build.js')));

  cli
    .command('plan')
    .argument('<dir>', 'app source directory')
    .description('what a build would do, without building or fetching: toolchain, builder, steps, runtime manifest with its sources, warnings, what this host lacks')
    .option('--name <app>', 'app name (default: the directory name)')
    .addOption(new Option('--builder <builder>', 'builder to plan for (default: [build] builder in hop3.toml, else local)').choices(BUILDER_NAMES))
    .option('--base-image <ref>', 'base image for generated Dockerfiles (docker builder)')
    .option('--json', 'print the plan as one JSON object')
    .action(action(() => import('./commands/plan.js')));

  runOptions(
    cli
      .command('run')
      .argument('<app|dir>', 'app name, or app directory (built on the fly when it has no artifact yet)')
      .description('run an artifact (the app\'s latest build, or --artifact)')
      .option('--artifact <file>', 'run this artifact file (nothing else is needed)')
      .option('--name <app>', 'name to run it under (default: the artifact\'s app_name)'),
  ).action(action(() => import('./commands/run.js')));

  runOptions(buildOptions(cli.command('deploy').argument('<dir>', 'app source directory').description('build, then run the new artifact'))).action(
    action(() => import('./commands/deploy.js')),
  );

  cli
    .command('status')
    .argument('[app]', 'one app (default: every app)')
    .description('what runs: workers, pids or containers, URL')
    .option('--json', 'machine-readable output')
    .action(action(() => import('./commands/status.js')));

  cli
    .command('rollback')
    .argument('<app>')
    .description('make an earlier kept release live again, without rebuilding (the same swap as a deploy)')
    .option('--to <release>', 'the release number (default: the newest earlier release of another build)', parseCount('--to'))
    .action(action(() => import('./commands/rollback.js')));

  cli
    .command('releases')
    .argument('<app>')
    .description('the app\'s numbered releases, oldest first; * marks the live one')
    .option('--json', 'machine-readable output')
    .action(action(() => import('./commands/releases.js')));

  cli
    .command('logs')
    .argument('<app>')
    .description('show worker logs')
    .option('-f, --follow', 'keep printing new lines')
    .option('--worker <name>', 'only this worker')
    .option('--lines <n>', 'lines per worker', parseCount('--lines'), 50)
    .action(action(() => import('./commands/logs.js')));

  cli
    .command('stop')
    .argument('<app>')
    .description('stop every worker of the app')
    .action(action(() => import('./commands/stop.js')));

  cli
    .command('inspect')
    .argument('<app|artifact.json>')
    .description('show an artifact: the app\'s latest build, or a file')
    .option('--json', 'print the artifact as JSON')
    .option('--explain', 'show where each runtime value came from (hop3.toml, Procfile, toolchain)')
    .action(action(() => import('./commands/inspect.js')));

  cli
    .command('diff')
    .argument('<a>', 'an artifact file, app@<release> (e.g. myapp@3), app:<build_id>, or an app (its latest build)')
    .argument('<b>', 'the same, to compare with')
    .description('what differs between two artifacts, field by field (metadata and provenance included); exit 0 identical, 1 different, 2 error')
    .option('--json', 'machine-readable output')
    .action(action(() => import('./commands/diff.js')));

  cli
    .command('push')
    .argument('<app|artifact.json>', 'an app (its latest build) or an artifact file')
    .description('ship a build to another host: a docker image to a registry (the new artifact names it by digest), a nix closure to a store; writes a new artifact, the old one stays')
    .option('--registry <host[:port][/namespace]>', 'docker artifacts: the registry to push the image to')
    .option('--store <uri>', 'nix artifacts: the store to copy the closure to (file:///srv/cache, ssh://host, ...)')
    .option('--sign-key <file>', 'nix artifacts: sign the copied paths with this secret key (nix key generate-secret)')
    .option('-o, --output <file>', 'where to write the new artifact (default: beside the old one, <name>.pushed.json)')
    .option('--username <name>', 'registry user (with --password-stdin; default: your Docker config\'s credentials)')
    .option('--password-stdin', 'read the registry password or token from stdin')
    .option('--quiet', 'hide per-layer progress; keep step lines')
    .option('--json', 'print the result as JSON (file, location, digest or store)')
    .action(action(() => import('./commands/push.js')));

  cli
    .command('bundle')
    .argument('<app|artifact.json>', 'an app (its latest build) or an artifact file of a local build')
    .description('write a local build as a tarball, for a host with the same OS and interpreters (hop3 unbundle there)')
    .option('-o, --output <file>', 'the tarball (default: ./<app>-<build_id>.tar.gz)')
    .option('--json', 'print the result as JSON')
    .action(action(() => import('./commands/bundle.js')));

  cli
    .command('unbundle')
    .argument('<file>', 'a tarball written by hop3 bundle')
    .description('put a bundled local build into this HOP3_HOME and write its artifact (paths moved to this home)')
    .option('--name <app>', 'app name to put it under (default: the bundle\'s app)')
    .option('-o, --output <file>', 'also write the artifact to this file')
    .option('--json', 'print the result as JSON')
    .action(action(() => import('./commands/unbundle.js')));

  cli
    .command('doctor')
    .description('which builders and deployers are usable here, with versions, and what to install')
    .option('--json', 'machine-readable output')
    .action(action(() => import('./commands/doctor.js')));

  cli
    .command('nix')
    .description('Nix helpers')
    .command('eject')
    .argument('<dir>', 'app source directory')
    .description('write the Nix expression hop3 generates for the app into it as hop3.nix, to customise')
    .option('--name <app>', 'app name used as the derivation name (default: the directory name)')
    .option('--json', 'machine-readable output')
    .action(action(() => import('./commands/nix-eject.js')));

  return cli;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const cli = program((code) => {
    exitCode = code;
  });
  try {
    await cli.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; bad usage exits 2 (commander already printed why)
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof Error && error.name === 'AbortError') {
      // Ctrl-C: whatever the command had started was already stopped on the way out.
      process.stderr.write(formatError(new Hop3Error('CLI_CANCELLED', 'Cancelled; nothing this command started is left running.', { hint: 'Run the command again when you are ready.' })));
      return 130;
    }
    process.stderr.write(formatError(error));
    return error instanceof Hop3Error && (error.usage || error.code === 'CLI_INVALID_OPTION') ? 2 : 1;
  }
}
