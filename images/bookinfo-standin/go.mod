module meshstack.local/images/bookinfo-standin

go 1.24
