module example.org/shapes/worker

go 1.22
