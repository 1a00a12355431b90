import { readFile } from 'node:fs/promises';
import { npmrcText, proxyVariables, type NetworkProfile } from '../../src/config/network-profile.js';
import { shellQuote } from '../../src/process/shell-quote.js';
import type { ExtraFile } from './build-context.js';

/** Where the network files sit in the context; a Dockerfile that names this folder gets them. */
export const NETWORK_DIR_IN_CONTEXT = '.hop3-network';
/** Where hop3's templates copy them in their build stage (never under /app, which the final stage copies). */
export const NETWORK_DIR_IN_STAGE = '/tmp/hop3-network';
/** Replaced by the COPY of the network files, in a template's build stage before its first install step. */
const COPY_MARKER = '# hop3:network';
/** Replaced by a RUN that removes the copy `COPY . /app` made of them, at the end of a template's build stage. */
const CLEANUP_MARKER = '# hop3:network-cleanup';

export interface NetworkStage {
  /** Build args for the daemon only: the proxy variables, which Docker predefines and keeps out of the image history. */
  buildArgs: Record<string, string>;
  /** Files added to the context (CA bundle, npmrc with credentials, env.sh); none when the Dockerfile does not use them. */
  files: ExtraFile[];
  /** The Dockerfile text with the markers replaced (a generated one) or as it is. */
  text: string;
}

/**
 * The network profile as a docker build takes it. The CA bundle and the registry settings go into the build
 * stage only, as files under /tmp/hop3-network that the install steps source (`env.sh`): the final stage copies
 * /app alone, so its image has neither the CA nor a token, and none of its history names them.
 */
export async function networkStage(profile: NetworkProfile | undefined, dockerfile: { text: string; generated: boolean }): Promise<NetworkStage> {
  const buildArgs = profile ? proxyVariables(profile) : {};
  const wanted = dockerfile.generated ? dockerfile.text.includes(COPY_MARKER) : dockerfile.text.includes(NETWORK_DIR_IN_CONTEXT);
  const files = profile && wanted ? await networkFiles(profile) : [];
  let { text } = dockerfile;
  if (dockerfile.generated) {
    const used = files.length > 0;
    text = text
      .replace(COPY_MARKER, used ? `COPY ${NETWORK_DIR_IN_CONTEXT}/ ${NETWORK_DIR_IN_STAGE}/` : COPY_MARKER)
      .replace(CLEANUP_MARKER, used ? `RUN rm -rf /app/${NETWORK_DIR_IN_CONTEXT}` : CLEANUP_MARKER);
  }
  return { buildArgs, files, text };
}

async function networkFiles(profile: NetworkProfile): Promise<ExtraFile[]> {
  const file = (name: string, content: string | Buffer) => ({ path: `${NETWORK_DIR_IN_CONTEXT}/${name}`, content: Buffer.from(content) });
  const files: ExtraFile[] = [];
  if (profile.caBundle) files.push(file('ca.crt', await readFile(profile.caBundle.value)));
  const npmrc = npmrcText(profile);
  if (npmrc) files.push(file('npmrc', npmrc));
  const pip = Object.entries(profile.pip).flatMap(([name, setting]) => {
    // Local find-links dirs are not in the container; URLs are.
    const value = name === 'PIP_FIND_LINKS' ? setting.value.split(/\s+/).filter((v) => /^https?:\/\//.test(v)).join(' ') : setting.value;
    return value ? [`export ${name}=${shellQuote(value)}`] : [];
  });
  if (files.length === 0 && pip.length === 0) return [];
  const d = NETWORK_DIR_IN_STAGE;
  const env = [
    "# hop3's network settings for this build stage (sourced by the install steps; never copied into the final image).",
    `if [ -f ${d}/ca.crt ]; then`,
    `  export NODE_EXTRA_CA_CERTS=${d}/ca.crt`,
    "  # Tools that replace their CA list (pip, curl, openssl, git, go) need the image's own CAs as well.",
    `  if [ ! -f ${d}/all.crt ]; then cat /etc/ssl/certs/ca-certificates.crt ${d}/ca.crt > ${d}/all.crt 2>/dev/null || cp ${d}/ca.crt ${d}/all.crt; fi`,
    `  export SSL_CERT_FILE=${d}/all.crt REQUESTS_CA_BUNDLE=${d}/all.crt PIP_CERT=${d}/all.crt CURL_CA_BUNDLE=${d}/all.crt GIT_SSL_CAINFO=${d}/all.crt`,
    'fi',
    `if [ -f ${d}/npmrc ]; then export npm_config_userconfig=${d}/npmrc; fi`,
    ...pip,
  ];
  files.push(file('env.sh', `${env.join('\n')}\n`));
  return files;
}
