"""Model architectures, the registry, safetensors checkpoints and ``.pth`` importers.

Every architecture is a plain ``nn.Module`` whose constructor keyword arguments are its
``config``; ``build_model(name, **config)`` builds one by name. See docs/models.md.

>>> from biaslens.models import build_model, list_architectures
>>> "coursera_dcgan_generator" in list_architectures()
True
"""

from biaslens.models import coursera, dbvae, dcgan, resnet, vae  # noqa: F401  (register)
from biaslens.models.checkpoint import (
    CheckpointInfo,
    load_checkpoint,
    read_checkpoint_info,
    save_checkpoint,
)
from biaslens.models.coursera import (
    CourseraClassifier,
    CourseraDCGANDiscriminator,
    CourseraDCGANGenerator,
)
from biaslens.models.dbvae import DBVAE, StandardCNN
from biaslens.models.dcgan import (
    DCGANDiscriminator,
    DCGANGenerator,
    PyTorchDCGANGenerator,
    SNDCGANDiscriminator,
    dcgan_init_,
)
from biaslens.models.importers import import_checkpoint, import_to_checkpoint, load_model
from biaslens.models.registry import (
    build_model,
    count_parameters,
    get_architecture,
    list_architectures,
    register_model,
)
from biaslens.models.resnet import ResNetClassifier
from biaslens.models.vae import VAE, ConditionalVAE, reparameterize

__all__ = [
    "CheckpointInfo", "load_checkpoint", "read_checkpoint_info",
    "save_checkpoint", "CourseraClassifier", "CourseraDCGANDiscriminator",
    "CourseraDCGANGenerator", "DBVAE", "StandardCNN", "DCGANDiscriminator", "DCGANGenerator", "SNDCGANDiscriminator", "dcgan_init_",
    "PyTorchDCGANGenerator", "import_checkpoint", "import_to_checkpoint", "load_model",
    "build_model", "count_parameters", "get_architecture", "list_architectures",
    "register_model", "ResNetClassifier", "VAE", "ConditionalVAE", "reparameterize",
]
