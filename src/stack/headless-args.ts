/**
 * The flag parsing the headless CLIs (`npm run export`, `npm run report`) share: strict `node:util`
 * parseArgs (unknown options and missing values refused), a usage error exits 2, --help prints the usage.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']> & { help: { type: 'boolean' } };
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'];

/** The parsed flags, or the exit code when the run ends here: 2 after the parse error and the usage on
 *  stderr, 0 after --help wrote the usage on stdout. */
export function headlessArgs<O extends Options>(options: O, usage: string): Values<O> | number {
  let values: Values<O>;
  try {
    ({ values } = parseArgs({ options, strict: true }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  return values;
}
