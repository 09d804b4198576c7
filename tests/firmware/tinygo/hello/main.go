// A board-neutral TinyGo program (no machine pins): built with TinyGo's own targets for
// boards whose TinyGo layout fwharden does not replace (esp32c3), then verified.
package main

import "time"

func main() {
	for {
		println("hello")
		time.Sleep(time.Second)
	}
}
