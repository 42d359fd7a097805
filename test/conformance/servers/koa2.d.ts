// `koa2` is a devDependency alias of Koa 2 (npm:koa@2), which ships no types; its API is the
// subset of @types/koa (Koa 3) that the tests use.
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
