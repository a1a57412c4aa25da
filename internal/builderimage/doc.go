// Package builderimage writes and reads the images of the CNB builder
// contract, as pack does: builder images (`distill builder create`, the
// build image plus /cnb/buildpacks, /cnb/order.toml, /cnb/run.toml, the
// lifecycle and the io.buildpacks.builder.* labels), buildpackages
// (`distill buildpack package`), and a builder image read back into a
// builder.Builder for `distill build --builder IMAGE`.
package builderimage
