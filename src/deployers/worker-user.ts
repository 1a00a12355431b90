import { chmod, chown, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error } from '../errors.js';
import { runCommand } from '../process/run-command.js';
import { OTHERS_TRAVERSE, PRIVATE_DIR_MODE, USER_TRAVERSE } from '../state/app-dirs.js';
import type { AppPaths } from '../state/hop3-home.js';

/** A user the process deployer runs an app as. */
export interface WorkerUser {
  name: string;
  uid: number;
  gid: number;
}

const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

/**
 * `[run] user` of the artifact (recorded in metadata.run_user), looked up on this host; undefined when
 * the artifact names none or names the user hop3 already runs as (nothing to switch).
 */
export async function workerUser(artifact: Artifact, env: NodeJS.ProcessEnv): Promise<WorkerUser | undefined> {
  const name = artifact.metadata.run_user;
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || !USER_NAME.test(name)) {
    throw new Hop3Error('ARTIFACT_INVALID', `metadata.run_user of ${artifact.app_name} ${artifact.build_id} is not a user name (${JSON.stringify(name)}).`, {
      hint: 'Fix [run] user in hop3.toml and rebuild.',
    });
  }
  const [uid, gid] = await Promise.all([idOf(name, '-u', env), idOf(name, '-g', env)]);
  if (uid === undefined || gid === undefined) {
    throw new Hop3Error('DEPLOY_RUN_USER_UNKNOWN', `[run] user of ${artifact.app_name} is ${JSON.stringify(name)}, which is not a user of this host.`, {
      hint: `Create it (useradd --system ${name}) or set [run] user to an existing user, and rebuild.`,
    });
  }
  const self = process.getuid?.();
  if (uid === self) return undefined;
  if (self !== 0) {
    throw new Hop3Error('DEPLOY_RUN_USER_DENIED', `[run] user of ${artifact.app_name} is ${name} (uid ${uid}), but hop3 runs as uid ${self} and only root can start processes as another user.`, {
      hint: `Run hop3 as root, or as ${name} itself, or remove [run] user.`,
    });
  }
  return { name, uid, gid };
}

async function idOf(name: string, flag: '-u' | '-g', env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const result = await runCommand('id', [flag, name], { env });
  const id = Number(result.stdout.trim());
  return !result.failed && /^\d+$/.test(result.stdout.trim()) && Number.isSafeInteger(id) ? id : undefined;
}

/**
 * Let the user run the app without opening HOP3_HOME to anyone else: its data dir (HOME, TMPDIR)
 * becomes the user's; the app's own dirs down to its working dir are handed to the user's group for
 * traversal only (0710), the working dir's tree for reading (g+rX), and apps/ gets others' traversal
 * (0701: enter, never list). Logs, release records and run state stay hop3's alone (0700/0600): the
 * supervisor writes them. HOP3_HOME itself is the owner's to open (o+x); the check says when it is not.
 */
export async function prepareForUser(user: WorkerUser, paths: AppPaths, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const owner = await stat(paths.data);
  // A first run as this user (or a change of user) takes over what is already there.
  if (owner.uid !== user.uid) await tool(['chown', '-R', '--no-dereference', `${user.uid}:${user.gid}`, paths.data], user);
  await chown(path.join(paths.data, 'tmp'), user.uid, user.gid);
  const inApp = path.relative(paths.root, cwd);
  if (!inApp.startsWith('..') && !path.isAbsolute(inApp)) {
    // Nix store paths and images are readable already; a build under the app's root is hop3's, owner-only.
    for (let dir = path.dirname(cwd); dir.length >= paths.root.length; dir = path.dirname(dir)) {
      await chown(dir, process.getuid?.() ?? 0, user.gid);
      await chmod(dir, PRIVATE_DIR_MODE | USER_TRAVERSE);
    }
    await tool(['chgrp', '-R', '--no-dereference', String(user.gid), cwd], user);
    await tool(['chmod', '-R', 'g+rX', cwd], user);
  }
  await chmod(path.dirname(paths.root), PRIVATE_DIR_MODE | OTHERS_TRAVERSE);
  const check = await runCommand('/bin/sh', ['-c', 'cd -- "$1" && test -r . && test -w "$2"', 'check', cwd, paths.data], { env, uid: user.uid, gid: user.gid });
  if (check.failed) {
    throw new Hop3Error('DEPLOY_RUN_USER_DENIED', `User ${user.name} cannot read the app's directory ${cwd} or write its data dir ${paths.data}: ${check.stderr.trim() || check.reason}.`, {
      hint: `Let ${user.name} enter HOP3_HOME and the directories above it (traversal only: chmod o+x ${path.dirname(path.dirname(paths.root))}), or set [run] user to a user who can.`,
    });
  }
}

async function tool(args: string[], user: WorkerUser): Promise<void> {
  const [file, ...rest] = args as [string, ...string[]];
  const result = await runCommand(file, rest, { env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' } });
  if (result.failed) {
    throw new Hop3Error('DEPLOY_RUN_USER_DENIED', `Cannot give the app's files to user ${user.name} (${result.command}): ${result.stderr.trim() || result.reason}.`, {
      hint: 'Check that HOP3_HOME is writable by hop3 (and not on a file system without ownership, such as vfat).',
    });
  }
}
