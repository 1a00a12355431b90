import { execa } from 'execa';

/** Bundle dist/ so the CLI tests run the real `hop3` bin, never a stale build (type errors are `npm run typecheck`'s job). */
export default async function setup(): Promise<void> {
  await execa('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}
