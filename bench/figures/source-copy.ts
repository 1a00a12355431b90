// Source copy of 20,000 small files ÷ `cp -r` (measured by bench/source-copy.ts).
import { duration, verdict, type Figure } from '../harness.js';
import { measureSourceCopy } from '../source-copy.js';

export const sourceCopy: Figure = {
  id: 'source-copy',
  async run() {
    const times = await measureSourceCopy({ files: 20_000 });
    const ratio = times.hop3Ms / times.cpMs;
    return [
      {
        figure: `source copy of ${times.files.toLocaleString('en')} files ÷ \`cp -r\``,
        hop3: duration(times.hop3Ms),
        reference: duration(times.cpMs),
        ratio,
        goal: '≤ 1.5',
        result: verdict(ratio <= 1.5),
        note: `copySourceTree in process against cp -r, medians of runs side by side; list + digest of the same tree ${duration(times.listDigestMs)}.`,
      },
    ];
  },
};
