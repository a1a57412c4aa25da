// An app that reads files at run time, in the shape of a gin getting-started app: HTML templates
// loaded by glob, a static directory served as is, and a data file named in the source.
package main

import (
	"html/template"
	"log"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	tmpl := template.Must(template.ParseGlob("templates/*.tmpl.html"))
	motto, err := os.ReadFile("data/motto.txt")
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.Dir("static"))))
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if err := tmpl.ExecuteTemplate(w, "index.tmpl.html", string(motto)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
