module example.org/shapes/greet

go 1.22
