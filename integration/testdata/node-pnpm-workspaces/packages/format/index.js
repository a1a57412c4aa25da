const ms = require("ms");
module.exports = function format(what) {
  return what + " OK (@fx/format from the workspace, ms says 1m=" + ms("1m") + ")";
};
