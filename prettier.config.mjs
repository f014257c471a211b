// Formatting: Prettier, with the code's existing style where it allows:
// single quotes, trailing commas, and a printWidth of 160, because lines of
// 120-160 characters (a call with its arguments, one case of a table) are
// the norm here and a narrower width would rewrap thousands of them for no
// gain in reading. Tables of one-line cases keep their shape with a
// `// prettier-ignore` comment. Markdown and generated files are left alone
// (.prettierignore).
/** @type {import('prettier').Config} */
export default {
  printWidth: 160,
  singleQuote: true,
  trailingComma: 'all',
  arrowParens: 'always',
};
