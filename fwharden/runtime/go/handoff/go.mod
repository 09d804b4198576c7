module fwharden/handoff

go 1.21
