module example.org/shapes/api

go 1.22
