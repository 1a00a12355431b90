import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Hop3Error } from '../../src/errors.js';
import { runCommand } from '../../src/process/run-command.js';
import { copySourceTree, type SourceEntry } from '../source-tree.js';

/** A temporary copy of the app that nix reads; removed on dispose. */
export interface NixStage extends AsyncDisposable {
  root: string;
  /** The filtered source copy; always named `source` so store paths do not depend on the app's directory name. */
  sourceDir: string;
  /** Empty; toolchains fetch dependencies here before the offline build. */
  vendorDir: string;
}

export async function createNixStage(sourceDir: string, entries: readonly SourceEntry[], env: NodeJS.ProcessEnv): Promise<NixStage> {
  const root = await mkdtemp(path.join(env.TMPDIR || os.tmpdir(), 'hop3-nix-'));
  const stage = {
    root,
    sourceDir: path.join(root, 'source'),
    vendorDir: path.join(root, 'vendor'),
    [Symbol.asyncDispose]: () => rm(root, { recursive: true, force: true }),
  };
  try {
    await copySourceTree(sourceDir, entries, stage.sourceDir);
    await mkdir(stage.vendorDir);
    return stage;
  } catch (error) {
    await stage[Symbol.asyncDispose]();
    throw error;
  }
}

/**
 * Flakes only see files tracked by git: make the staged copy a repository with every file added.
 * No commit is needed (nix reads the dirty tree), which keeps `self` free of dates and hashes that vary.
 */
export async function makeGitTree(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const git = async (args: string[]) => {
    const result = await runCommand('git', args, { cwd: dir, env });
    if (result.failed) {
      throw new Hop3Error('BUILD_NIX_GIT_FAILED', `\`git ${args.join(' ')}\` failed while staging the flake: ${result.notFound ? 'git is not installed' : result.stderr.trim() || result.reason}`, {
        hint: 'Flakes need git: install it (Debian: apt-get install git).',
      });
    }
  };
  await git(['init', '--quiet']);
  await git(['add', '--all', '--force']);
}
