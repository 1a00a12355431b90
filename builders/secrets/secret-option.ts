import path from 'node:path';
import { Hop3Error } from '../../src/errors.js';
import { secretIdProblem, type SecretRequest, type SecretSource } from './build-secrets.js';

const HINT = 'Use --secret id=NAME (from the environment variable NAME), --secret id=NAME,env=VAR or --secret id=NAME,src=FILE.';

/** One `--secret id=NAME[,src=FILE|env=VAR]` (docker's syntax); relative files are resolved against the current directory. */
export function parseSecretOption(spec: string): SecretRequest {
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part.trim() : part.slice(0, eq).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (!['id', 'src', 'source', 'env'].includes(key)) refuse(spec, `unknown field ${JSON.stringify(key)}`);
    const name = key === 'source' ? 'src' : key;
    if (fields.has(name)) refuse(spec, `${name} is given twice`);
    if (value === '') refuse(spec, `${key} needs a value (${key}=...)`);
    fields.set(name, value);
  }
  const id = fields.get('id');
  if (id === undefined) refuse(spec, 'it names no id');
  const problem = secretIdProblem(id);
  if (problem) refuse(spec, problem);
  const src = fields.get('src');
  const env = fields.get('env');
  if (src !== undefined && env !== undefined) refuse(spec, 'give src or env, not both');
  const source: SecretSource = src !== undefined ? { file: path.resolve(src) } : { env: env ?? id };
  return { id, source, origin: `--secret ${spec}` };
}

function refuse(spec: string, why: string): never {
  throw new Hop3Error('CLI_INVALID_OPTION', `--secret ${spec}: ${why}.`, { usage: true, hint: HINT });
}
