/** Options whose value follows them as the next argument. */
const VALUE_OPTIONS = new Set(['--name', '--builder', '--output', '--base-image', '--secret', '--jobs', '--port', '--target', '--artifact', '--ca-bundle', '--proxy', '--replicas']);
/** Options whose value is a path on this host: recorded as a placeholder, so the record does not depend on where things are. */
const PATH_OPTIONS = new Set(['--output', '--artifact', '--ca-bundle']);

/**
 * The command line as a build records it (metadata.provenance_inputs.command): `hop3`, then the arguments with
 * directories and files replaced by `<dir>`/`<file>` and a --secret reduced to its id (never where its value comes from).
 */
export function recordedCommandLine(args: readonly string[]): string[] {
  const out = ['hop3'];
  let command: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_OPTIONS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      out.push(name);
      if (value !== undefined) out.push(recordedValue(name, value));
    } else if (arg.startsWith('-')) {
      out.push(arg);
    } else if (command === undefined) {
      command = arg;
      out.push(arg);
    } else {
      out.push('<dir>');
    }
  }
  return out;
}

function recordedValue(option: string, value: string): string {
  if (PATH_OPTIONS.has(option)) return '<file>';
  // A proxy URL may hold a password, and says where the build ran, not what it built.
  if (option === '--proxy') return '<url>';
  if (option === '--secret') return `id=${/(?:^|,)id=([^,]*)/.exec(value)?.[1] ?? '?'}`;
  return value;
}
