/* Placeholder: being written. */
#include "conf/sp-volume.h"
