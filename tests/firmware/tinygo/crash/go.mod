module example.com/tinygo-crash

go 1.21
