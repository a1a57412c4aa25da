package main

import (
	"fmt"

	"example.org/shapes/greet"
)

func main() { fmt.Println(greet.Line("go-work worker")) }
