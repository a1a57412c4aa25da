package main

func message() string { return "gopath-main OK" }
