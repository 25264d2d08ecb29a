// hello: the smallest JavaScript command (start-up and size in `make bench`).
export const run = {
  run() {
    console.log('hello from JavaScript');
  },
};
