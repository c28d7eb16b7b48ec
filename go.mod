module github.com/vigil-soc/vigil

go 1.26
