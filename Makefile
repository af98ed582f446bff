# Shortcuts over scripts/ (the README commands need only bash; make is installed by set-up).
.PHONY: setup site docs docs-check test unit integration molecule sanity lint services-start services-stop services-status bench bench-docker bench-libvirt bench-proxmox bench-devtest

setup:            ; scripts/setup.sh
site:             ; scripts/site.sh
docs:             ; scripts/docs.sh
docs-check:       ; scripts/docs.sh --check
test:             ; scripts/test.sh
molecule:         ; scripts/test.sh molecule
unit:             ; scripts/test.sh unit
integration:      ; scripts/test.sh integration
sanity:           ; scripts/test.sh sanity
lint:             ; scripts/test.sh lint
services-start:   ; scripts/services.sh start
services-stop:    ; scripts/services.sh stop
services-status:  ; scripts/services.sh status
bench:            ; scripts/bench.sh
bench-docker:     ; scripts/bench.sh docker
bench-libvirt:    ; scripts/bench.sh libvirt
bench-proxmox:    ; scripts/bench.sh proxmox
bench-devtest:    ; scripts/bench.sh devtest_clones
