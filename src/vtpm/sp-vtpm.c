/* Placeholder: being written. */
#include "vtpm/sp-vtpm.h"
