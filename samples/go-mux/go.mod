module example.com/go-mux

go 1.25.4

require github.com/gorilla/mux v1.8.1
