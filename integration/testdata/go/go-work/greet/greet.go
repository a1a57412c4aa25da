// Package greet is a library module the workspace's programs share.
package greet

// Line is what the api answers.
func Line(who string) string { return who + " OK (from the greet module)" }
