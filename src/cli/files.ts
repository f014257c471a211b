// Files named on the command line: a state or conf file must be a readable
// regular file (a directory given as --state is bad input, said before reading).
import { stat } from '../util/fs-async.js';
import { ValidationError } from '../errors.js';

export async function inputFile(flag: string, path: string): Promise<string> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : (err.code ?? err.message);
    throw new ValidationError(flag, path, why);
  });
  if (st.isDirectory()) throw new ValidationError(flag, path, 'is a directory; expected a file');
  if (!st.isFile()) throw new ValidationError(flag, path, 'is not a regular file');
  return path;
}
