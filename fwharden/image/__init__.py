"""Boot images a chip's ROM reads: the RP2040's CRC-checked boot2 (boot2.py), the UF2
file its USB boot mode takes (written by fwharden.flash.uf2), and Espressif's app image
(esp.py). Pure functions over bytes and files; nothing here prints or exits."""
