// Command vigil is Vigil's single binary: the server, the demo and the
// command-line tools. It only wires; the commands live in internal/cli.
package main

import (
	"os"

	"github.com/vigil-soc/vigil/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
