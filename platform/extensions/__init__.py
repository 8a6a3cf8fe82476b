"""Extensions at run time: discovery and enablement (``registry``), record hooks (``hooks``), the facade their
code is handed (``facade``), actions (``actions``) and scheduled jobs (``jobs``). The public surface extension
authors import is ``trellis.extensions.api``."""
