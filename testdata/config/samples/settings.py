"""Settings for the billing worker."""
import os

API_VERSION = "2023-10-16"
PAYMENTS_API_KEY = "9f8Kq2Lw7XzR4tYb6Nc1Vm3Hd5Gs0Jp"
TIMEOUT_SECONDS = 30
