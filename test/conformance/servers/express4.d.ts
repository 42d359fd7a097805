// `express4` is a devDependency alias of Express 4 (npm:express@4), which ships no types; the
// harness uses only the API Express 4 and 5 share, typed by @types/express.
declare module 'express4' {
  import express from 'express';
  export default express;
}
