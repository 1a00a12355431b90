import { appReleases } from '../../deployers/deploy-app.js';
import { validateAppName } from '../../state/hop3-home.js';
import { printJson } from '../output.js';

export async function run(app: string, flags: { json?: boolean }): Promise<number> {
  const releases = await appReleases(validateAppName(app), process.env);
  if (flags.json) {
    printJson(releases.map(({ artifact, ...release }) => ({ ...release, build_id: artifact.build_id, builder: artifact.builder, artifact })));
    return 0;
  }
  if (releases.length === 0) process.stdout.write(`${app} has no releases yet: hop3 deploy <dir>\n`);
  for (const r of releases) {
    const mark = r.status === 'live' ? '*' : ' ';
    process.stdout.write(`${mark} ${String(r.release).padStart(4)}  ${r.status.padEnd(8)} ${r.artifact.build_id.padEnd(28)} ${r.artifact.builder.padEnd(7)} ${r.created_at}${r.reason ? `  (${r.reason})` : ''}\n`);
  }
  return 0;
}
