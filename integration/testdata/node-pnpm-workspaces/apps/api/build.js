// The api's own build step: the root has no build script, so the build runs this one here.
require("fs").writeFileSync(__dirname + "/built.txt", "built by apps/api's build script in " + process.cwd() + "\n");
