/* Placeholder: being written. */
#include "image/sp-pool.h"
