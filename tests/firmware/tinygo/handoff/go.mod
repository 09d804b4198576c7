module handofftest

go 1.21
