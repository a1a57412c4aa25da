// Loaded into every node process of the image through NODE_OPTIONS=--require
// (a launch default of the node-runtime layer, which distill's Node.js
// buildpack sets). In a container node often runs as PID 1, and PID 1 gets no
// default action for SIGTERM and SIGINT: without a handler of the app's own,
// `podman stop`, `docker stop` and Kubernetes wait out their grace period and
// kill it. As PID 1 only, this exits as the default action would (128 +
// signal number), unless the app has a handler of its own, which then decides.
// Kept to what Node.js 12 parses.
'use strict';
if (process.pid === 1) {
  [['SIGTERM', 15], ['SIGINT', 2]].forEach(function (s) {
    process.on(s[0], function distillDefaultSignal() {
      if (process.listenerCount(s[0]) > 1) {
        return;
      }
      process.exit(128 + s[1]);
    });
  });
}
