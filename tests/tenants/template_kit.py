"""A small template in two versions, for the install / upgrade / uninstall tests."""

from __future__ import annotations

import copy
from pathlib import Path

from trellis.tenants.packages.package import Package, read_package, write_package

ACCOUNT = {
    "api_name": "account", "label": "Account", "name_field": "name",
    "fields": [
        {"api_name": "name", "label": "Name", "type": "text", "required": True, "unique": True},
        {"api_name": "industry", "label": "Industry", "type": "picklist", "values": [
            {"value": "retail", "label": "Retail"}, {"value": "tech", "label": "Technology"}]},
        {"api_name": "website", "label": "Website", "type": "url"},
    ],
}
DEAL = {
    "api_name": "deal", "label": "Deal", "name_field": "name",
    "fields": [
        {"api_name": "name", "label": "Name", "type": "text", "required": True},
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "account"},
        {"api_name": "amount", "label": "Amount", "type": "currency", "currency": "USD"},
    ],
    "layouts": [{"name": "standard", "sections": [{"fields": [{"field": "name"}, {"field": "account"}]}]}],
}
REPORT = {"api_name": "deals_by_account", "label": "Deals by account", "object": "deal",
          "columns": [{"field": "name"}, {"field": "amount"}]}
DATA = {"account": "name,industry,website\nAcme,retail,https://acme.example.com\nGlobex,tech,\n",
        "deal": "name,account,amount\nBig one,Acme,5000\nSmall one,Globex,100\n"}


def version_1() -> Package:
    return Package(manifest={"name": "mini", "version": "1.0.0", "title": "Mini CRM", "publisher": "Tests"},
                   objects={"account": copy.deepcopy(ACCOUNT), "deal": copy.deepcopy(DEAL)},
                   definitions={"report": {"deals_by_account": copy.deepcopy(REPORT)}}, data=dict(DATA),
                   translations={"zh-CN": {"account": "客户", "account.industry.retail": "零售"}})


def version_2() -> Package:
    """Adds deal.close_date, puts it on the deal form, adds it to the report, relabels deal, helps on website,
    and gives account a form naming website."""
    package = version_1()
    package.manifest["version"] = "1.1.0"
    deal = package.objects["deal"]
    deal["label"] = "Sale"
    deal["fields"].append({"api_name": "close_date", "label": "Close date", "type": "date"})
    deal["layouts"][0]["sections"][0]["fields"].append({"field": "close_date"})
    package.objects["account"]["fields"][2]["help_text"] = "The company's home page."
    package.objects["account"]["layouts"] = [{"name": "standard", "sections": [
        {"fields": [{"field": "name"}, {"field": "website"}]}]}]
    package.definitions["report"]["deals_by_account"]["columns"].append({"field": "close_date"})
    return package


def on_disk(package: Package, folder: Path) -> Package:
    """Write and read back, so the tests go through the package files as a partner ships them."""
    write_package(package, folder)
    return read_package(folder)
