/* placeholder: replaced by its owner */
#include "vmlaunch.h"
