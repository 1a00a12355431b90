/**
 * One word for `/bin/sh -c`: left bare when it is plainly safe (readable commands), else single-quoted.
 * For every path or argument hop3 writes into a worker command: a HOP3_HOME with a space must still run.
 */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_/.:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
