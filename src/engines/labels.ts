import { Hop3Error } from '../errors.js';

/** The one label namespace for everything hop3 creates in an engine (images, containers, services). */
export const LABELS = {
  app: 'io.hop3.app',
  worker: 'io.hop3.worker',
  buildId: 'io.hop3.build-id',
  release: 'io.hop3.release',
} as const;

/**
 * Labels the user adds to everything hop3 creates, from HOP3_LABELS="key=value,key=value"
 * (to find or sweep them later; the test suite marks its own with io.hop3.test=1).
 */
export function extraLabels(env: NodeJS.ProcessEnv): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of (env.HOP3_LABELS ?? '').split(',').filter((p) => p.trim() !== '')) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    if (at < 1 || !/^[a-z0-9][a-z0-9._-]*$/.test(key)) {
      throw new Hop3Error('CONFIG_LABELS_INVALID', `HOP3_LABELS: ${JSON.stringify(pair)} is not a key=value label.`, {
        usage: true,
        hint: 'Write HOP3_LABELS="com.example.team=web,env=prod" (lowercase keys).',
      });
    }
    labels[key] = pair.slice(at + 1).trim();
  }
  return labels;
}
