import { execa } from 'execa';

/** Compile dist/ so the CLI tests run the real `hop3` bin, never a stale build. */
export default async function setup(): Promise<void> {
  // Emit only: type errors are `npm run typecheck`'s job (npm test runs it first).
  await execa('npx', ['tsc', '-p', 'tsconfig.build.json', '--noCheck'], { stdio: 'inherit' });
}
