"""The erase confirmation and the download's README in the applicant's language."""

from __future__ import annotations

import io
import zipfile

from tests.factories import post_application, valid_fields


async def test_the_erase_page_and_the_download_readme_are_russian(client):
    response = await post_application(client, valid_fields())
    status_url = response.headers["location"].replace("/apply/received/", "/status/")
    confirm = await client.get(f"{status_url}/erase", headers={"Accept-Language": "ru"})
    assert "Удалить ваши данные?" in confirm.text and "Да, удалить мои данные" in confirm.text
    assert "Ваша заявка ещё на рассмотрении" in confirm.text and "Erase your data" not in confirm.text
    download = await client.get(f"{status_url}/data", headers={"Accept-Language": "ru"})
    assert download.status_code == 200
    readme = zipfile.ZipFile(io.BytesIO(download.content)).read("README.txt").decode()
    assert readme.startswith("В этом архиве — всё, что") and "data.json  ваши данные" in readme
    english = await client.get(f"{status_url}/data")
    assert (
        zipfile.ZipFile(io.BytesIO(english.content))
        .read("README.txt")
        .decode()
        .startswith("This archive holds")
    )
