#pragma once
int studio_init_placeholder(void);
