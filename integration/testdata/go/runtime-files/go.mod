module example.org/shapes/runtimefiles

go 1.22
