package report

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Node kinds in the treemap of an image.
const (
	NodeImage = "image"
	NodeLayer = "layer" // a row of the report: the run image, or one layer
	NodeDir   = "dir"
	NodeFile  = "file"
	NodeRest  = "rest" // smaller entries of a directory, or bytes no file accounts for
)

// Node is one cell of the treemap: the image, a row of the report, a
// directory, a file, or the rest of a directory taken together.
//
// Bytes is the node's share of the compressed size. A row's is exact (the
// report's); inside a layer it is an approximation: each layer's compressed
// size is divided among its regular files in proportion to their
// uncompressed sizes, as compression ratios inside a layer are not known
// without compressing each file alone.
type Node struct {
	Name     string  // the label: "usr/lib", "go-mux", "run image  distill/run:static"
	Path     string  // the absolute path of a dir or file
	Kind     string  // NodeImage, NodeLayer, NodeDir, NodeFile, NodeRest
	Row      int     // the report row the node is in (-1 for the image)
	Bytes    float64 // compressed bytes (approximate below a row)
	Size     int64   // uncompressed bytes of the files under it
	Files    int     // regular files under it
	Children []*Node
	index    map[string]*Node // Children by kind and name, while the tree is built
}

// rowTree is the tree of one report row: the directories and files of its
// image layers (files), each file weighing its approximate compressed share
// (File.Compressed); what no file accounts for is one NodeRest.
func rowTree(row int, l Layer, files []File) *Node {
	root := &Node{Name: l.Name, Kind: NodeLayer, Row: row, Bytes: float64(l.Compressed), Path: "/"}
	var placed float64
	for _, f := range files {
		root.add(f, f.Compressed)
		placed += f.Compressed
	}
	if rest := float64(l.Compressed) - placed; rest > 0.5 {
		root.Children = append(root.Children, &Node{
			Name: "no file data (directories, links, tar headers)", Kind: NodeRest, Row: row, Bytes: rest,
		})
	}
	return root
}

// add puts file f, weighing share compressed bytes, under n (the row).
func (n *Node) add(f File, share float64) {
	n.Size += f.Size
	n.Files++
	dir := n
	parts := strings.Split(strings.Trim(f.Path, "/"), "/")
	for i, part := range parts {
		kind := NodeDir
		if i == len(parts)-1 {
			kind = NodeFile
		}
		dir = dir.child(part, kind, "/"+path.Join(parts[:i+1]...))
		dir.Bytes += share
		dir.Size += f.Size
		dir.Files++
	}
}

func (n *Node) child(name, kind, p string) *Node {
	key := kind + "\x00" + name
	if c, ok := n.index[key]; ok {
		return c
	}
	if n.index == nil {
		n.index = map[string]*Node{}
	}
	c := &Node{Name: name, Kind: kind, Path: p, Row: n.Row}
	n.index[key] = c
	n.Children = append(n.Children, c)
	return c
}

// prune keeps what the picture can show: entries of at least min bytes
// (at most maxChildren of them per directory, the rest taken together as
// one NodeRest), chains of single directories joined ("usr/lib"), no
// deeper than maxDepth levels below the row, and nothing inside a directory
// under min bytes.
func (n *Node) prune(min float64, maxChildren, maxDepth int) {
	for n.Kind == NodeDir && len(n.Children) == 1 && n.Children[0].Kind == NodeDir {
		c := n.Children[0]
		n.Name, n.Path, n.Children = n.Name+"/"+c.Name, c.Path, c.Children
	}
	if maxDepth <= 0 || (n.Kind == NodeDir && n.Bytes < min) {
		n.Children = nil
		return
	}
	sort.SliceStable(n.Children, func(i, j int) bool { return n.Children[i].Bytes > n.Children[j].Bytes })
	keep := 0
	for keep < len(n.Children) && keep < maxChildren && n.Children[keep].Bytes >= min {
		keep++
	}
	if small := n.Children[keep:]; len(small) > 1 {
		rest := &Node{Kind: NodeRest, Row: n.Row, Path: n.Path}
		for _, c := range small {
			rest.Bytes += c.Bytes
			rest.Size += c.Size
			rest.Files += c.Files
		}
		rest.Name = fmt.Sprintf("%d smaller entries", len(small))
		n.Children = append(n.Children[:keep:keep], rest)
	}
	for _, c := range n.Children {
		if c.Kind == NodeDir {
			c.prune(min, maxChildren, maxDepth-1)
		}
	}
}
