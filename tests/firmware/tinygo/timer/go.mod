module example.com/tinygo-timer

go 1.21
