module example.com/tinygo-uart

go 1.21
