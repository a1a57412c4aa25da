module.exports = function greet(what) {
  return what + " OK (@fx/greet from the workspace)";
};
