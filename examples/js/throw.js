// throw: a JavaScript command whose `run` throws an uncaught exception.
export const run = {
  run() {
    console.log('about to throw');
    throw new Error('Curiouser and curiouser!');
  },
};
