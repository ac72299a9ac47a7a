# Physical page allocator: core bitmap logic and page_alloc_init over synthetic memory maps.
HOST_TESTS += page_alloc
page_alloc_SRCS := tests/host/test_page_alloc.c kernel/page_alloc.c
