module example.org/shapes/minversion

go 1.15
